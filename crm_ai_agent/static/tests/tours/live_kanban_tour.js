/**
 * The pipeline is open; a signed WhatsApp webhook arrives and is processed by
 * the queue; the new card must appear in the kanban without any reload.
 */
import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

async function param(key) {
    return rpc("/web/dataset/call_kw/ir.config_parameter/get_param", {
        model: "ir.config_parameter",
        method: "get_param",
        args: [key],
        kwargs: {},
    });
}

registry.category("web_tour.tours").add("crm_ai_agent_live_kanban", {
    steps: () => [
        {
            content: "The pipeline kanban is open",
            trigger: ".o_kanban_renderer .o_kanban_record",
        },
        {
            content: "Show the whole team's pipeline (routing may give the lead to any salesperson)",
            trigger: ".o_searchview_facet:contains('My Pipeline') .o_facet_remove",
            run: "click",
        },
        {
            content: "The pipeline is reloaded without the filter",
            trigger: ".o_control_panel:not(:has(.o_searchview_facet))",
        },
        {
            content: "Mark the page so a reload would be noticed",
            trigger: ".o_kanban_renderer",
            run() {
                window.crmAiNoReload = true;
            },
        },
        {
            content: "A WhatsApp message arrives on the webhook and the queue processes it",
            trigger: ".o_kanban_renderer",
            async run() {
                const url = await param("crm_ai_agent.tour_webhook");
                const body = await param("crm_ai_agent.tour_body");
                const signature = await param("crm_ai_agent.tour_signature");
                const cronId = parseInt(await param("crm_ai_agent.tour_cron"));
                const response = await fetch(url, {
                    method: "POST",
                    headers: { "Content-Type": "application/json", "X-Hub-Signature-256": signature },
                    body,
                });
                if (response.status !== 200) {
                    throw new Error(`webhook answered ${response.status}`);
                }
                await rpc("/web/dataset/call_kw/ir.cron/method_direct_trigger", {
                    model: "ir.cron",
                    method: "method_direct_trigger",
                    args: [[cronId]],
                    kwargs: {},
                });
            },
        },
        {
            content: "The new card appears, without reload",
            trigger: ".o_kanban_record:contains('Cliente do Tour')",
            run() {
                if (!window.crmAiNoReload) {
                    throw new Error("the page was reloaded");
                }
            },
        },
    ],
});
