/** Channel type shown as its logo (kanban cards, forms). */

import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { Component } from "@odoo/owl";

export const CHANNEL_ICONS = {
    whatsapp_cloud: { icon: "fa-whatsapp", color: "#25D366" },
    whatsapp_evolution: { icon: "fa-whatsapp", color: "#25D366" },
    instagram: { icon: "fa-instagram", color: "#C13584" },
    messenger: { icon: "fa-facebook-official", color: "#0084FF" },
    telegram: { icon: "fa-telegram", color: "#229ED9" },
    webchat: { icon: "fa-comments", color: "#714B67" },
};

export class ChannelIconField extends Component {
    static template = "crm_ai_agent.ChannelIconField";
    static props = { ...standardFieldProps };

    get value() {
        return this.props.record.data[this.props.name];
    }
    get icon() {
        return CHANNEL_ICONS[this.value] || { icon: "fa-comment", color: "#6c757d" };
    }
    get label() {
        const selection = this.props.record.fields[this.props.name].selection || [];
        const entry = selection.find(([key]) => key === this.value);
        return entry ? entry[1] : "";
    }
}

export const channelIconField = {
    component: ChannelIconField,
    displayName: "Channel Icon",
    supportedTypes: ["selection", "char"],
};

registry.category("fields").add("crm_ai_channel_icon", channelIconField);
