/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <openssl/evp.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "idp.h"
#include "usermap.h"

typedef struct Login Login;
typedef struct LoginIo LoginIo;
typedef struct RhostRate RhostRate;

/* The daemon's context: one per process, owned by manager_run(). */
typedef struct Manager {
        Config *config;
        sd_event *event;
        sd_bus *bus;
        Http *http;
        Idp *idp;
        UserMap *usermap;
        EVP_PKEY *client_key;           /* private_key_jwt */
        const LoginIo *io;              /* NULL: http.c and idp.c (login.h) */

        Login *logins;                  /* every flow, active and finished-but-not-yet-freed */
        unsigned n_active;
        RhostRate *rates;
        sd_event_source *rate_gc;

        uint64_t n_started, n_approved, n_refused;
        uint64_t n_forged_signals;      /* bus-driver signals from anyone but the bus driver, dropped */
        bool bus_lost;
        uint64_t started_at;
        bool shutting_down;
} Manager;

/* Lookup by the flow id in an object path; NULL when none. */
Login *manager_find_login(Manager *m, const char *id);
