/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common/devflow-client.c, the one client of devflowd's bus API, against a fake daemon on the other end of a
 * socketpair (a direct sd-bus connection, served from a thread): well-formed replies, replies of the wrong
 * shape, forged flow paths, error replies; and the one "daemon unreachable" list. */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "devflow-bus.h"
#include "devflow-client.h"
#include "macro.h"
#include "test.h"

typedef enum Mode {
        MODE_GOOD,
        MODE_WRONG_SIGNATURE,
        MODE_FOREIGN_PATH,
        MODE_EMPTY_CODE,
        MODE_ERROR,
} Mode;

static volatile Mode mode;
static volatile int quit;
static char last_context[512];

#define FLOW DEVFLOW_FLOW_PATH_PREFIX "/1"

static int method_start_login(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *user, *key, *value;
        size_t n = 0;
        int r;

        r = sd_bus_message_read(m, "s", &user);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        last_context[0] = 0;
        while ((r = sd_bus_message_read(m, "{sv}", &key, "s", &value)) > 0)
                n += (size_t) snprintf(last_context + n, sizeof last_context - MIN(n, sizeof last_context),
                                       "%s=%s;", key, value);
        if (r < 0)
                return r;

        switch (mode) {
        case MODE_GOOD:
                return sd_bus_reply_method_return(m, "ossstt", FLOW, "ABCD-EFGH", "https://idp/device", "",
                                                  (uint64_t) 1000, (uint64_t) 5000000);
        case MODE_WRONG_SIGNATURE:
                return sd_bus_reply_method_return(m, "osss", FLOW, "ABCD-EFGH", "https://idp/device", "");
        case MODE_FOREIGN_PATH:
                return sd_bus_reply_method_return(m, "ossstt", "/org/example/flow", "ABCD", "https://idp/d", "",
                                                  (uint64_t) 1, (uint64_t) 1);
        case MODE_EMPTY_CODE:
                return sd_bus_reply_method_return(m, "ossstt", FLOW, "", "https://idp/d", "",
                                                  (uint64_t) 1, (uint64_t) 1);
        case MODE_ERROR:
        default:
                return sd_bus_reply_method_errorf(m, DEVFLOW_ERROR_TOO_MANY_FLOWS, "Too many pending logins.");
        }
}

static int method_wait(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        switch (mode) {
        case MODE_GOOD:
                return sd_bus_reply_method_return(m, "bss", 1, "alice", "Welcome");
        case MODE_WRONG_SIGNATURE:
                return sd_bus_reply_method_return(m, "bs", 1, "alice");
        case MODE_ERROR:
        default:
                return sd_bus_reply_method_errorf(m, DEVFLOW_ERROR_DENIED, "Denied at the IdP.");
        }
}

static int method_poll(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        if (mode == MODE_WRONG_SIGNATURE)
                return sd_bus_reply_method_return(m, "u", (uint32_t) 7);
        if (mode == MODE_ERROR)
                return sd_bus_reply_method_errorf(m, DEVFLOW_ERROR_NO_SUCH_FLOW, "No such flow.");
        return sd_bus_reply_method_return(m, "t", (uint64_t) 4242);
}

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        if (mode == MODE_ERROR)
                return sd_bus_reply_method_errorf(m, DEVFLOW_ERROR_NO_SUCH_FLOW, "No such flow.");
        return sd_bus_reply_method_return(m, NULL);
}

static int method_get_status(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        if (mode == MODE_WRONG_SIGNATURE)
                return sd_bus_reply_method_return(m, "s", "0.1.0");
        /* known keys, a key of the wrong type, and a key from a newer daemon */
        return sd_bus_reply_method_return(m, "a{sv}", 5,
                                          "Version", "s", "9.9",
                                          "Issuer", "s", "https://idp",
                                          "ActiveFlows", "u", (uint32_t) 3,
                                          "FlowsStarted", "s", "not a number",
                                          "SomethingNew", "t", (uint64_t) 1);
}

/* A filter, not a vtable: sd-bus would check the replies of a vtable's methods against its signatures, and
 * this daemon must be able to send the wrong ones. */
static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        static const struct {
                const char *path, *iface, *member;
                sd_bus_message_handler_t handler;
        } table[] = {
                { DEVFLOW_BUS_PATH, DEVFLOW_MANAGER_IFACE, "StartLogin", method_start_login },
                { DEVFLOW_BUS_PATH, DEVFLOW_MANAGER_IFACE, "GetStatus", method_get_status },
                { FLOW, DEVFLOW_FLOW_IFACE, "Wait", method_wait },
                { FLOW, DEVFLOW_FLOW_IFACE, "Poll", method_poll },
                { FLOW, DEVFLOW_FLOW_IFACE, "Cancel", method_cancel },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (sd_bus_message_is_method_call(m, table[i].iface, table[i].member) &&
                    streq_ptr(sd_bus_message_get_path(m), table[i].path)) {
                        (void) table[i].handler(m, userdata, error);
                        return 1;
                }
        return 0;
}

static void *serve(void *userdata) {
        sd_bus *s = userdata;

        while (!quit) {
                int r = sd_bus_process(s, NULL);
                if (r < 0)
                        break;
                if (r == 0)
                        (void) sd_bus_wait(s, 20 * USEC_PER_MSEC);
        }
        return NULL;
}

static sd_bus *server, *client;
static pthread_t server_thread;

static int setup(void) {
        sd_id128_t id;
        int fds[2], r;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
                return -errno;
        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;

        if ((r = sd_bus_new(&server)) < 0 || (r = sd_bus_set_fd(server, fds[0], fds[0])) < 0 ||
            (r = sd_bus_set_server(server, 1, id)) < 0 || (r = sd_bus_set_anonymous(server, 1)) < 0 ||
            (r = sd_bus_add_filter(server, NULL, on_message, NULL)) < 0 ||
            (r = sd_bus_start(server)) < 0)
                return r;
        if ((r = sd_bus_new(&client)) < 0 || (r = sd_bus_set_fd(client, fds[1], fds[1])) < 0 ||
            (r = sd_bus_set_anonymous(client, 1)) < 0 || (r = sd_bus_start(client)) < 0)
                return r;
        r = pthread_create(&server_thread, NULL, serve, server);
        return -r;
}

static void teardown(void) {
        quit = 1;
        (void) pthread_join(server_thread, NULL);
        client = sd_bus_flush_close_unref(client);
        server = sd_bus_flush_close_unref(server);
}

#define T (5 * USEC_PER_SEC)

TEST(start_login_good_reply_and_context) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(devflow_login_done) DevflowLogin l = {};

        mode = MODE_GOOD;
        CHECK_INTEQ(devflow_start_login(client, "alice",
                                        &(DevflowLoginContext) { .rhost = "192.0.2.1", .service = "",
                                                                 .poll = "on-demand" }, T, &e, &l), 0);
        CHECK_STREQ(l.flow_path, FLOW);
        CHECK_STREQ(l.user_code, "ABCD-EFGH");
        CHECK_STREQ(l.uri, "https://idp/device");
        CHECK_STREQ(l.uri_complete, "");
        CHECK_INTEQ(l.expires_usec, 1000);
        CHECK_INTEQ(l.interval_usec, 5000000);
        /* empty and NULL values are left out */
        CHECK_STREQ(last_context, "rhost=192.0.2.1;poll=on-demand;");

        devflow_login_done(&l);
        CHECK_INTEQ(devflow_start_login(client, "alice", NULL, T, &e, &l), 0);
        CHECK_STREQ(last_context, "");
}

TEST(start_login_malformed_replies_are_failures) {
        static const Mode modes[] = { MODE_WRONG_SIGNATURE, MODE_FOREIGN_PATH, MODE_EMPTY_CODE };

        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                DevflowLogin l = {};

                mode = modes[i];
                CHECK_INTEQ(devflow_start_login(client, "alice", NULL, T, &e, &l), -EBADMSG);
                CHECK(!sd_bus_error_is_set(&e));
                CHECK(l.flow_path == NULL);     /* written only on success */
        }
}

TEST(start_login_error_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        DevflowLogin l = {};

        mode = MODE_ERROR;
        CHECK(devflow_start_login(client, "alice", NULL, T, &e, &l) < 0);
        CHECK(sd_bus_error_has_name(&e, DEVFLOW_ERROR_TOO_MANY_FLOWS));
        CHECK(!devflow_error_is_unreachable(&e, -EBUSY));
        CHECK(l.flow_path == NULL);
}

static int async_r = 1;
static DevflowVerdict async_v;
static char async_error[128];

static int on_wait(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        async_r = devflow_wait_reply_read(m, &e, &async_v);
        snprintf(async_error, sizeof async_error, "%s", strempty(e.name));
        if (async_r >= 0)
                async_v.local_user = strdup(async_v.local_user);        /* the message goes away */
        return 0;
}

static int wait_async(void) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        int r;

        async_r = 1;
        r = devflow_wait_async(client, &slot, FLOW, T, on_wait, NULL);
        if (r < 0)
                return r;
        while (async_r == 1) {
                r = sd_bus_process(client, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        (void) sd_bus_wait(client, T);
        }
        return async_r;
}

TEST(wait_sync_and_async) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DevflowVerdict v = {};

        mode = MODE_GOOD;
        CHECK_INTEQ(devflow_wait(client, FLOW, T, &e, &reply, &v), 0);
        CHECK(v.allowed);
        CHECK_STREQ(v.local_user, "alice");
        CHECK_STREQ(v.message, "Welcome");

        CHECK_INTEQ(wait_async(), 0);
        CHECK(async_v.allowed);
        CHECK_STREQ(async_v.local_user, "alice");
        free((char *) async_v.local_user);

        mode = MODE_WRONG_SIGNATURE;
        CHECK_INTEQ(wait_async(), -EBADMSG);
        CHECK_STREQ(async_error, "");

        mode = MODE_ERROR;
        CHECK(wait_async() < 0);
        CHECK_STREQ(async_error, DEVFLOW_ERROR_DENIED);
}

TEST(flow_calls_refuse_foreign_paths) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DevflowVerdict v;

        CHECK_INTEQ(devflow_wait(client, "/org/example/x", T, &e, &reply, &v), -EINVAL);
        CHECK_INTEQ(devflow_poll(client, "/net/devflow/Devflow1", T, &e, NULL), -EINVAL);
        CHECK_INTEQ(devflow_cancel(client, NULL, T, &e), -EINVAL);
        CHECK(!sd_bus_error_is_set(&e));
}

TEST(poll_and_cancel) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        uint64_t next = 0;

        mode = MODE_GOOD;
        CHECK_INTEQ(devflow_poll(client, FLOW, T, &e, &next), 0);
        CHECK_INTEQ(next, 4242);
        CHECK_INTEQ(devflow_cancel(client, FLOW, T, &e), 0);

        mode = MODE_WRONG_SIGNATURE;
        next = 1;
        CHECK_INTEQ(devflow_poll(client, FLOW, T, &e, &next), -EBADMSG);
        CHECK_INTEQ(next, 1);

        mode = MODE_ERROR;
        CHECK(devflow_cancel(client, FLOW, T, &e) < 0);
        CHECK(sd_bus_error_has_name(&e, DEVFLOW_ERROR_NO_SUCH_FLOW));
}

TEST(get_status_reads_known_keys_only) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(devflow_status_done) DevflowStatus s = {};

        mode = MODE_GOOD;
        CHECK_INTEQ(devflow_get_status(client, T, &e, &s), 0);
        CHECK_STREQ(s.version, "9.9");
        CHECK_STREQ(s.issuer, "https://idp");
        CHECK_INTEQ(s.active_flows, 3);
        CHECK_INTEQ(s.flows_started, 0);                /* wrong type: skipped */
        CHECK_INTEQ(s.idp_reachable, -1);               /* no request yet: unknown */
        CHECK(s.idp_last_request_age_usec == USEC_INFINITY);

        devflow_status_done(&s);
        mode = MODE_WRONG_SIGNATURE;
        CHECK_INTEQ(devflow_get_status(client, T, &e, &s), -EBADMSG);
        CHECK(s.version == NULL);
}

TEST(unreachable_is_one_list) {
        static const char *const unreachable[] = {
                SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_NO_REPLY,
                SD_BUS_ERROR_DISCONNECTED, SD_BUS_ERROR_TIMEOUT, "org.freedesktop.DBus.Error.TimedOut",
                SD_BUS_ERROR_NO_SERVER, SD_BUS_ERROR_UNKNOWN_OBJECT,
                "org.freedesktop.DBus.Error.Spawn.ChildExited", "org.freedesktop.DBus.Error.Spawn.Failed",
                "org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.systemd1.UnitMasked",
        };
        static const char *const reachable[] = {
                DEVFLOW_ERROR_DENIED, DEVFLOW_ERROR_IDP_UNAVAILABLE, DEVFLOW_ERROR_NOT_PERMITTED,
                SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_INVALID_ARGS, SD_BUS_ERROR_NO_MEMORY,
                "org.freedesktop.DBus.Error.Spawn", "com.example.Weird",
        };

        for (size_t i = 0; i < ELEMENTSOF(unreachable); i++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) sd_bus_error_set(&e, unreachable[i], "x");
                /* the name decides, whatever errno came with it */
                CHECK(devflow_error_is_unreachable(&e, -EINVAL));
                sd_bus_error_free(&e);
        }
        for (size_t i = 0; i < ELEMENTSOF(reachable); i++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) sd_bus_error_set(&e, reachable[i], "x");
                CHECK(!devflow_error_is_unreachable(&e, -ECONNREFUSED));
                sd_bus_error_free(&e);
        }
        static const int yes[] = { -ENOENT, -ECONNREFUSED, -ECONNRESET, -ECONNABORTED, -ENOTCONN, -ETIMEDOUT,
                                   -EPIPE, -ESHUTDOWN, -EHOSTDOWN, -ENOBUFS };
        static const int no[] = { 0, -EBADMSG, -EINVAL, -ENOMEM, -EIO, -EPERM, -EACCES };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                CHECK(devflow_error_is_unreachable(NULL, yes[i]));
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                CHECK(!devflow_error_is_unreachable(NULL, no[i]));

        CHECK_STREQ(devflow_error_short_name(DEVFLOW_ERROR_NOT_PERMITTED), "NotPermitted");
        CHECK_STREQ(devflow_error_short_name(SD_BUS_ERROR_ACCESS_DENIED), SD_BUS_ERROR_ACCESS_DENIED);
        CHECK(devflow_error_short_name(NULL) == NULL);
}

int main(void) {
        int r = setup();
        if (r < 0) {
                printf("FAIL: test-devflow-client: cannot set up the fake daemon: %s\n", strerror(-r));
                return 1;
        }
        r = run_tests();
        teardown();
        return r;
}
