/**
 * A salesperson opens a hot lead from "Hot Leads to Answer", replies on WhatsApp
 * (not by e-mail), sees the reply in the chatter with its delivery badge, and the
 * lead shows In Service. The second tour comes back once the queue sent it.
 */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("crm_ai_agent_reply", {
    steps: () => [
        {
            content: "The hot lead waits in the high-priority list",
            trigger: ".o_list_renderer .o_data_row td[name='name']:contains('Cliente Quente')",
            run: "click",
        },
        {
            content: "The lead is hot",
            trigger: ".o_crm_ai_summary div[name='ai_temperature']:contains('Hot')",
        },
        {
            content: "Open the WhatsApp composer",
            trigger: ".o_form_view button.o_crm_ai_reply:contains('Reply on WhatsApp')",
            run: "click",
        },
        {
            content: "The composer says free text is allowed, and until when",
            trigger: ".modal .o_crm_ai_window:contains('free text allowed until')",
        },
        {
            content: "Write the reply",
            trigger: ".modal .o_crm_ai_reply_body textarea",
            run: "edit Olá! Posso te ligar agora?",
        },
        {
            content: "Send it",
            trigger: ".modal button.o_crm_ai_reply_send",
            run: "click",
        },
        {
            content: "The reply is in the chatter",
            trigger: ".o-mail-Message:contains('Posso te ligar agora')",
        },
        {
            content: "It shows as a WhatsApp message waiting to leave",
            trigger: ".o-mail-Message:contains('Posso te ligar agora') .o_crm_ai_delivery:contains('WhatsApp')",
        },
        {
            content: "The lead is now In Service",
            trigger: ".o_crm_ai_summary div[name='ai_temperature']:contains('In Service')",
        },
    ],
});

registry.category("web_tour.tours").add("crm_ai_agent_reply_sent", {
    steps: () => [
        {
            content: "The reply is recorded as sent",
            trigger: ".o-mail-Message:contains('Posso te ligar agora') .o_crm_ai_delivery_sent:contains('Sent')",
        },
        {
            content: "The lead shows In Service, with who attends it",
            trigger: ".o_crm_ai_summary div[name='ai_temperature']:contains('In Service')",
        },
        {
            content: "Attended by the salesperson",
            trigger: ".o_crm_ai_in_service:contains('Salesperson One')",
        },
    ],
});
