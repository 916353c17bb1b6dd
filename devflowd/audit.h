/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <sys/types.h>

/* Audit events: one journal entry per event with a fixed MESSAGE_ID (documented in devflowd(8)) and the
 * fields USER, RHOST, SERVICE, FLOW_ID, CALLER_UID, CALLER_PID, IDP_SUB, LOCAL_USER, REASON. Never the user
 * code (nor a hash of it: a code has about 38 bits, any unkeyed hash of it gives it back), tokens or secrets;
 * FLOW_ID ties the events of one flow together. Without a journal the same goes to stderr as one line. */

typedef enum AuditEvent {
        AUDIT_CODE_ISSUED,
        AUDIT_APPROVED,
        AUDIT_REFUSED,
        AUDIT_EXPIRED,
        AUDIT_CANCELLED,
        AUDIT_FAILED,
        AUDIT_START_REFUSED,
        _AUDIT_EVENT_MAX,
        _AUDIT_EVENT_INVALID = -EINVAL,
} AuditEvent;

/* Who called over the bus, from the bus's credentials. */
typedef struct AuditCaller {
        uid_t uid;
        pid_t pid;
} AuditCaller;

typedef struct AuditFields {
        const char *user;
        const char *rhost;
        const char *service;
        const char *flow_id;
        const AuditCaller *caller;      /* NULL: not known yet (written as empty fields) */
        const char *sub;
        const char *local_user;
        const char *reason;
} AuditFields;

const char *audit_event_to_string(AuditEvent e);
const char *audit_event_message_id(AuditEvent e);
void audit_log(AuditEvent e, const AuditFields *f);
