/** Open CRM views reload when a channel message creates or changes a lead. */

import { patch } from "@web/core/utils/patch";
import { useService } from "@web/core/utils/hooks";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { ListController } from "@web/views/list/list_controller";
import { FormController } from "@web/views/form/form_controller";
import { onMounted, onWillUnmount } from "@odoo/owl";

export const LEAD_UPDATE = "crm_ai_agent/lead_update";
const DEBOUNCE_MS = 150;

function useLeadLiveUpdate(controller, shouldReload) {
    if (controller.props.resModel !== "crm.lead") {
        return;
    }
    const busService = useService("bus_service");
    let timer = null;
    const reload = async () => {
        timer = null;
        if (controller.model.root && (await shouldReload(controller))) {
            await controller.model.load();
        }
    };
    const onUpdate = (payload) => {
        if (!payload || !Array.isArray(payload.lead_ids)) {
            return;
        }
        controller.crmAiPendingLeadIds = payload.lead_ids;
        clearTimeout(timer);
        timer = setTimeout(reload, DEBOUNCE_MS);
    };
    onMounted(() => busService.subscribe(LEAD_UPDATE, onUpdate));
    onWillUnmount(() => {
        clearTimeout(timer);
        busService.unsubscribe(LEAD_UPDATE, onUpdate);
    });
}

patch(KanbanController.prototype, {
    setup() {
        super.setup(...arguments);
        useLeadLiveUpdate(this, async () => true);
    },
});

patch(ListController.prototype, {
    setup() {
        super.setup(...arguments);
        // Never reload under a user editing a row.
        useLeadLiveUpdate(this, async (ctrl) => !ctrl.model.root.editedRecord);
    },
});

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        useLeadLiveUpdate(this, async (ctrl) => {
            const record = ctrl.model.root;
            return (
                record.resId &&
                (ctrl.crmAiPendingLeadIds || []).includes(record.resId) &&
                !(await record.isDirty())
            );
        });
    },
});
