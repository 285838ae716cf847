/** A live alert for the salesperson of a hot lead, with a button to open it. */

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

export const HOT_LEAD = "crm_ai_agent/hot_lead";

export const crmAiHotLeadService = {
    dependencies: ["bus_service", "notification", "action"],
    start(env, { bus_service, notification, action }) {
        bus_service.subscribe(HOT_LEAD, (payload) => {
            if (!payload || !payload.lead_id) {
                return;
            }
            const close = notification.add(payload.message || "", {
                title: payload.title || _t("Hot lead"),
                type: "danger",
                sticky: true,
                className: "o_crm_ai_hot_lead_notification",
                buttons: [
                    {
                        name: _t("Open lead"),
                        primary: true,
                        onClick: () => {
                            close();
                            action.doAction({
                                type: "ir.actions.act_window",
                                res_model: "crm.lead",
                                res_id: payload.lead_id,
                                views: [[false, "form"]],
                            });
                        },
                    },
                ],
            });
        });
        bus_service.start();
    },
};

registry.category("services").add("crm_ai_hot_lead", crmAiHotLeadService);
