/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Audit events: one journal entry per event with a fixed MESSAGE_ID (documented in devflowd(8)) and the
 * fields USER, RHOST, SERVICE, FLOW_ID, USER_CODE_HASH, IDP_SUB, REASON. Never the code itself, tokens or
 * secrets. Without a journal the same goes to stderr as one line. */

typedef enum AuditEvent {
        AUDIT_CODE_ISSUED,
        AUDIT_APPROVED,
        AUDIT_REFUSED,
        AUDIT_EXPIRED,
        AUDIT_CANCELLED,
        AUDIT_FAILED,
        AUDIT_START_REFUSED,
        _AUDIT_EVENT_MAX,
        _AUDIT_EVENT_INVALID = -22,
} AuditEvent;

typedef struct AuditFields {
        const char *user;
        const char *rhost;
        const char *service;
        const char *flow_id;
        const char *user_code;          /* hashed before it is written, never written itself */
        const char *sub;
        const char *local_user;
        const char *reason;
} AuditFields;

const char *audit_event_to_string(AuditEvent e);
const char *audit_event_message_id(AuditEvent e);
void audit_log(AuditEvent e, const AuditFields *f);

/* First 16 hex digits of SHA-256(user_code), so events can be correlated without the code. */
int audit_user_code_hash(const char *user_code, char ret[static 17]);
