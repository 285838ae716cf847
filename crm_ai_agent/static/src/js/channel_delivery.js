/** Delivery state of channel replies (WhatsApp, Telegram...) on chatter messages. */

import { Message } from "@mail/core/common/message_model";
import { Record } from "@mail/core/common/record";
import { patch } from "@web/core/utils/patch";

patch(Message.prototype, {
    setup() {
        super.setup(...arguments);
        /** @type {{state: string, label: string, channel: string, icon: string, error: string, ids: number[]}|null} */
        this.crmAiDelivery = Record.attr(null);
    },
});
