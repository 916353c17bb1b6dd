/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "devflow-bus.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

static const char *arg_config = CONFIG_DEFAULT_PATH;
static int arg_check_config = 0;

static void help(void) {
        printf("Usage: devflowd [OPTIONS]\n\n"
               "OAuth 2.0 device authorization grant login daemon for pam_devflow.\n\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n"
               "  -c --config=FILE     Read FILE instead of %s (and FILE.d/*.conf)\n"
               "     --check-config    Validate the configuration, print OK or every error, exit 0 or 1\n"
               "  -d --debug           Log debug messages\n",
               CONFIG_DEFAULT_PATH);
}

/* Returns > 0 to go on, 0 to exit successfully, < 0 on a usage error. */
static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_CHECK_CONFIG };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h'              },
                { "version",      no_argument,       NULL, ARG_VERSION      },
                { "config",       required_argument, NULL, 'c'              },
                { "check-config", no_argument,       NULL, ARG_CHECK_CONFIG },
                { "debug",        no_argument,       NULL, 'd'              },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hc:d", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("devflowd %s\n", DEVFLOW_VERSION);
                        return 0;
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = 1;
                        break;
                case 'd':
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "devflowd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}


int main(int argc, char *argv[]) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        Config *config = NULL;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        r = config_load(arg_config, &config, &errors);
        if (arg_check_config) {
                if (r < 0) {
                        if (errors.n == 0)
                                fprintf(stderr, "%s: %s\n", arg_config, strerror(-r));
                        config_errors_print(&errors, stderr);
                        return 1;
                }
                config_free(config);
                printf("OK\n");
                return 0;
        }
        if (r < 0) {
                if (errors.n == 0)
                        log_error_errno(r, "Failed to read %s: %m", arg_config);
                config_errors_print(&errors, stderr);
                return 1;
        }

        r = manager_run(config);
        config_free(config);
        return r < 0 ? 1 : 0;
}
