from . import (
    crm_ai_channel,
    crm_ai_channel_meta_messaging,
    crm_ai_channel_provider,
    crm_ai_channel_telegram,
    crm_ai_channel_webchat,
    crm_ai_channel_whatsapp_cloud,
    crm_ai_channel_whatsapp_evolution,
    crm_ai_identity,
    crm_ai_message,
    crm_lead,
    res_config_settings,
    res_partner,
)
