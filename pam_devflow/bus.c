/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <security/pam_modules.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "devflow-bus.h"
#include "devflow-client.h"
#include "macro.h"
#include "time-util.h"

void bus_outcome_done(Outcome *o) {
        if (!o)
                return;
        sd_bus_error_free(&o->bus_error);
        free(o->local_user);
        free(o->message);
        *o = OUTCOME_NULL;
}

void bus_outcome_set(Outcome *o, OutcomeKind kind) {
        assert(o);
        assert(kind > OUTCOME_VERDICT && kind < _OUTCOME_KIND_MAX);

        bus_outcome_done(o);
        o->kind = kind;
}

void bus_outcome_fail(Outcome *o, int r, sd_bus_error *error) {
        assert(o);

        if (error && sd_bus_error_is_set(error)) {
                bus_outcome_set(o, OUTCOME_BUS_ERROR);
                o->bus_error = *error;
                *error = SD_BUS_ERROR_NULL;
                return;
        }
        bus_outcome_set(o, OUTCOME_FAILED);
        o->error = r < 0 ? r : -EIO;
}

static const struct {
        const char *name;
        int pam;
} error_table[] = {
        { DEVFLOW_ERROR_DENIED,                         PAM_AUTH_ERR },
        { DEVFLOW_ERROR_WRONG_USER,                     PAM_AUTH_ERR },
        { DEVFLOW_ERROR_EXPIRED,                        PAM_AUTH_ERR },
        { DEVFLOW_ERROR_CANCELLED,                      PAM_AUTH_ERR },
        { DEVFLOW_ERROR_TOKEN_INVALID,                  PAM_AUTH_ERR },
        { DEVFLOW_ERROR_NOT_PERMITTED,                  PAM_AUTH_ERR },
        { DEVFLOW_ERROR_RHOST_NOT_ALLOWED,              PAM_AUTH_ERR },
        { DEVFLOW_ERROR_NO_SUCH_FLOW,                   PAM_AUTH_ERR },
        { DEVFLOW_ERROR_UNKNOWN_USER,                   PAM_USER_UNKNOWN },
        { DEVFLOW_ERROR_IDP_UNAVAILABLE,                PAM_AUTHINFO_UNAVAIL },
        { DEVFLOW_ERROR_IDP_ERROR,                      PAM_AUTHINFO_UNAVAIL },
        { DEVFLOW_ERROR_SHUTTING_DOWN,                  PAM_AUTHINFO_UNAVAIL },
        { DEVFLOW_ERROR_TOO_MANY_FLOWS,                 PAM_MAXTRIES },
        { DEVFLOW_ERROR_RATE_LIMITED,                   PAM_MAXTRIES },
        { SD_BUS_ERROR_NO_MEMORY,                       PAM_BUF_ERR },
};

static int bus_error_to_pam(const sd_bus_error *e) {
        for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
                if (sd_bus_error_has_name(e, error_table[i].name))
                        return error_table[i].pam;
        /* the daemon is absent, vanished, or does not answer: a stack may fall back */
        if (devflow_error_is_unreachable(e, /* r= */ 0))
                return PAM_AUTHINFO_UNAVAIL;
        return PAM_AUTH_ERR;
}

int bus_outcome_to_pam(const Outcome *o, const char *pam_user) {
        if (!o)
                return PAM_AUTH_ERR;

        switch (o->kind) {
        case OUTCOME_VERDICT:
                /* DESIGN §4: the approving identity must be the PAM user, whole strings, byte for byte. */
                if (o->allowed && o->local_user && pam_user && *pam_user && strcmp(o->local_user, pam_user) == 0)
                        return PAM_SUCCESS;
                return PAM_AUTH_ERR;
        case OUTCOME_BUS_ERROR:
                return sd_bus_error_is_set(&o->bus_error) ? bus_error_to_pam(&o->bus_error) : PAM_AUTH_ERR;
        case OUTCOME_FAILED:
                if (o->error == -ENOMEM)
                        return PAM_BUF_ERR;
                return devflow_error_is_unreachable(/* e= */ NULL, o->error) ? PAM_AUTHINFO_UNAVAIL : PAM_AUTH_ERR;
        case OUTCOME_CONV_FAILED:
                return PAM_CONV_ERR;
        case OUTCOME_TYPED_ANSWER:      /* not an Enter: the login ends; a password module after us may run */
        case OUTCOME_TIMED_OUT:
        case OUTCOME_PENDING:
        default:
                return PAM_AUTH_ERR;
        }
}

bool bus_outcome_is_expired(const Outcome *o) {
        return o && o->kind == OUTCOME_BUS_ERROR && sd_bus_error_has_name(&o->bus_error, DEVFLOW_ERROR_EXPIRED);
}

int bus_open(sd_bus **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        assert(ret);

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_method_call_timeout(bus, DEVFLOW_CALL_TIMEOUT_USEC);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(bus);
        return 0;
}

static int on_wait_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Outcome *o = userdata;
        DevflowVerdict v;
        int r;

        if (o->kind != OUTCOME_PENDING)
                return 0;               /* a failure was recorded first: it stands */

        r = devflow_wait_reply_read(m, &error, &v);
        if (r < 0) {
                bus_outcome_fail(o, r, &error);
                return 0;
        }
        o->local_user = strdup(v.local_user);
        o->message = strdup(v.message);
        if (!o->local_user || !o->message) {
                bus_outcome_fail(o, -ENOMEM, NULL);
                return 0;
        }
        o->allowed = v.allowed;
        o->kind = OUTCOME_VERDICT;
        return 0;
}

int bus_wait_begin(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, Outcome *o, sd_bus_slot **ret_slot) {
        assert(bus);
        assert(flow_path);
        assert(o);
        assert(ret_slot);

        /* The reply is deferred until the flow ends: the timeout is the caller's, not the default. */
        return devflow_wait_async(bus, ret_slot, flow_path, timeout_usec, on_wait_reply, o);
}

int bus_wait_until(sd_bus *bus, const Outcome *o, uint64_t deadline_usec) {
        int r;

        assert(bus);
        assert(o);

        for (;;) {
                uint64_t now;

                if (o->kind != OUTCOME_PENDING)
                        return 1;

                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return o->kind != OUTCOME_PENDING ? 1 : r;
                if (r > 0)
                        continue;

                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline_usec)
                        return 0;

                r = sd_bus_wait(bus, deadline_usec - now);
                if (r < 0 && r != -EINTR)
                        return r;
        }
}
