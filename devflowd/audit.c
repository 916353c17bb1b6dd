/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "audit.h"
#include "log.h"
#include "macro.h"

static const char *const audit_event_table[_AUDIT_EVENT_MAX] = {
        [AUDIT_CODE_ISSUED]   = "code-issued",
        [AUDIT_APPROVED]      = "approved",
        [AUDIT_REFUSED]       = "refused",
        [AUDIT_EXPIRED]       = "expired",
        [AUDIT_CANCELLED]     = "cancelled",
        [AUDIT_FAILED]        = "failed",
        [AUDIT_START_REFUSED] = "start-refused",
};

/* Fixed for ever: admins filter on them (journalctl MESSAGE_ID=…). */
static const char *const audit_message_id_table[_AUDIT_EVENT_MAX] = {
        [AUDIT_CODE_ISSUED]   = "5d1b4e1c0e6b4a4f9a7f3c2d8e0a1b01",
        [AUDIT_APPROVED]      = "5d1b4e1c0e6b4a4f9a7f3c2d8e0a1b02",
        [AUDIT_REFUSED]       = "5d1b4e1c0e6b4a4f9a7f3c2d8e0a1b03",
        [AUDIT_EXPIRED]       = "5d1b4e1c0e6b4a4f9a7f3c2d8e0a1b04",
        [AUDIT_CANCELLED]     = "5d1b4e1c0e6b4a4f9a7f3c2d8e0a1b05",
        [AUDIT_FAILED]        = "5d1b4e1c0e6b4a4f9a7f3c2d8e0a1b06",
        [AUDIT_START_REFUSED] = "5d1b4e1c0e6b4a4f9a7f3c2d8e0a1b07",
};

const char *audit_event_to_string(AuditEvent e) {
        return e >= 0 && e < _AUDIT_EVENT_MAX ? audit_event_table[e] : NULL;
}

const char *audit_event_message_id(AuditEvent e) {
        return e >= 0 && e < _AUDIT_EVENT_MAX ? audit_message_id_table[e] : NULL;
}

void audit_log(AuditEvent e, const AuditFields *f) {
        _cleanup_free_ char *user = NULL, *rhost = NULL, *service = NULL, *sub = NULL, *reason = NULL,
                *local = NULL;
        char uid[32] = "", pid[32] = "";
        const char *what = audit_event_to_string(e);

        if (!what)
                return;
        if (f->caller) {
                (void) snprintf(uid, sizeof uid, "%u", (unsigned) f->caller->uid);
                (void) snprintf(pid, sizeof pid, "%d", (int) f->caller->pid);
        }

        /* Everything here may come from a caller or the IdP: quote it without control characters. */
        user = strdup_sanitized(strempty(f->user));
        rhost = strdup_sanitized(strempty(f->rhost));
        service = strdup_sanitized(strempty(f->service));
        sub = strdup_sanitized(strempty(f->sub));
        reason = strdup_sanitized(strempty(f->reason));
        local = strdup_sanitized(strempty(f->local_user));
        if (!user || !rhost || !service || !sub || !reason || !local) {
                (void) log_oom();
                return;
        }

        if (!log_is_journal()) {
                log_full_errno(e == AUDIT_APPROVED || e == AUDIT_CODE_ISSUED ? LOG_NOTICE : LOG_WARNING, 0,
                       "audit: %s flow=%s user='%s' rhost='%s' service='%s' caller_uid=%s caller_pid=%s "
                       "sub='%s' local_user='%s' reason='%s'",
                       what, strempty(f->flow_id), user, rhost, service, uid, pid, sub, local, reason);
                return;
        }

        (void) sd_journal_send("MESSAGE=devflowd %s: user '%s' from '%s'%s%s", what, user, rhost,
                               *reason ? ": " : "", reason,
                               "MESSAGE_ID=%s", audit_event_message_id(e),
                               "PRIORITY=%i", e == AUDIT_APPROVED || e == AUDIT_CODE_ISSUED ? LOG_NOTICE : LOG_WARNING,
                               "DEVFLOW_EVENT=%s", what,
                               "USER=%s", user,
                               "RHOST=%s", rhost,
                               "SERVICE=%s", service,
                               "FLOW_ID=%s", strempty(f->flow_id),
                               "CALLER_UID=%s", uid,
                               "CALLER_PID=%s", pid,
                               "IDP_SUB=%s", sub,
                               "LOCAL_USER=%s", local,
                               "REASON=%s", reason,
                               NULL);
}
