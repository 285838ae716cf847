/** Click on a failed channel reply: open its channel message (error, "Send Again"). */

import { Message } from "@mail/core/common/message";
import { patch } from "@web/core/utils/patch";

patch(Message.prototype, {
    onClickCrmAiDelivery(ev) {
        const delivery = this.message.crmAiDelivery;
        if (!delivery || !delivery.ids || !delivery.ids.length) {
            return;
        }
        ev.stopPropagation();
        const ids = delivery.ids;
        this.env.services.action.doAction({
            type: "ir.actions.act_window",
            res_model: "crm.ai.message",
            ...(ids.length === 1
                ? { res_id: ids[0], views: [[false, "form"]] }
                : { domain: [["id", "in", ids]], views: [[false, "list"], [false, "form"]] }),
            target: "current",
        });
    },
});
