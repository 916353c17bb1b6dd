/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "macro.h"
#include "test.h"
#include "user-util.h"

#define NAME32 "abcdefghijklmnopqrstuvwxyz012345"

TEST(name_is_safe) {
        CHECK(user_name_is_safe("alice", 5));
        CHECK(user_name_is_safe("alice@example.com", 17));
        CHECK(user_name_is_safe("_svc.a-b", 8));
        CHECK(user_name_is_safe("ALICE", 5));
        CHECK(user_name_is_safe(NAME32, 32));
        CHECK(!user_name_is_safe(NAME32 "x", 33));
        CHECK(!user_name_is_safe("", 0));
        CHECK(!user_name_is_safe("-x", 2));
        CHECK(!user_name_is_safe("a\0b", 3));
        CHECK(!user_name_is_safe("alice\0", 6));
        CHECK(!user_name_is_safe("a b", 3));
        CHECK(!user_name_is_safe("a:b", 3));
        CHECK(!user_name_is_safe("a/b", 3));
        CHECK(!user_name_is_safe("a\nb", 3));
        CHECK(!user_name_is_safe("\xc3\xa9", 2));
        CHECK(!user_name_is_safe(".", 1));
        CHECK(!user_name_is_safe("..", 2));
        CHECK(user_name_is_safe("...", 3));
        CHECK(!user_name_is_safe(NULL, 0));
}

TEST(name_is_requestable) {
        char long_name[USER_NAME_REQUEST_MAX + 2];

        CHECK(user_name_is_requestable("alice"));
        CHECK(user_name_is_requestable("Alice.Smith@EXAMPLE"));
        CHECK(user_name_is_requestable("a+b=c"));               /* NSS may know it; no mapping will produce it */
        CHECK(!user_name_is_requestable(""));
        CHECK(!user_name_is_requestable("-alice"));
        CHECK(!user_name_is_requestable("a b"));
        CHECK(!user_name_is_requestable("a/b"));
        CHECK(!user_name_is_requestable("a:b"));
        CHECK(!user_name_is_requestable("a\tb"));
        CHECK(!user_name_is_requestable("a\x7f"));
        CHECK(!user_name_is_requestable("\xc3\xa9"));
        CHECK(!user_name_is_requestable(NULL));
        memset(long_name, 'a', sizeof long_name);
        long_name[USER_NAME_REQUEST_MAX] = '\0';
        CHECK(user_name_is_requestable(long_name));
        long_name[USER_NAME_REQUEST_MAX] = 'a';
        long_name[USER_NAME_REQUEST_MAX + 1] = '\0';
        CHECK(!user_name_is_requestable(long_name));
        /* Every safe name is requestable: a mapping never produces a name the bus would have refused. */
        CHECK(user_name_is_requestable(NAME32));
        CHECK(user_name_is_requestable("_svc.a-b@x"));
}

TEST(lookup_nss) {
        _cleanup_free_ char *name = NULL;
        uid_t uid = 4711;

        CHECK_INTEQ(user_lookup_nss("root", &uid, NULL), 0);
        CHECK_INTEQ(uid, 0);
        CHECK_INTEQ(user_lookup_nss("no-such-user-devflow-xyz", &uid, NULL), -ENOENT);
        CHECK_INTEQ(user_lookup_nss(NULL, &uid, NULL), -EINVAL);
        CHECK_INTEQ(user_name_of_uid(0, &name), 0);
        CHECK_STREQ(name, "root");
        name = mfree(name);
        /* uid 2^31 - 3: nobody has it on a test machine */
        CHECK_INTEQ(user_name_of_uid((uid_t) 2147483645, &name), -ENOENT);
        CHECK(name == NULL);
}

TEST(lookup_own_uid) {
        _cleanup_free_ char *name = NULL;
        uid_t uid = (uid_t) -1;

        /* Whoever runs the tests: the name of our uid maps back to our uid. */
        if (user_name_of_uid(getuid(), &name) < 0)
                return;
        CHECK_INTEQ(user_lookup_nss(name, &uid, NULL), 0);
        CHECK_INTEQ(uid, getuid());
}

int main(void) {
        return run_tests();
}
