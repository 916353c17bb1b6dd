/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built PAM module (argv[1]) loads with every symbol resolved (RTLD_NOW: what libpam does) and its
 * dynamic symbol table defines pam_sm_authenticate and pam_sm_setcred and nothing else (the version script
 * pam_devflow.map with "local: *;"). */

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const wanted[] = { "pam_sm_authenticate", "pam_sm_setcred" };

int main(int argc, char *argv[]) {
        unsigned failed = 0, found = 0, other = 0;
        struct stat st;
        void *h, *map;
        int fd;

        if (argc != 2) {
                fprintf(stderr, "usage: %s MODULE.so\n", argv[0]);
                return EXIT_FAILURE;
        }

        h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                printf("FAIL: dlopen %s: %s\n", argv[1], dlerror());
                return EXIT_FAILURE;
        }
        printf("PASS: dlopen(RTLD_NOW) %s\n", argv[1]);
        for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
                if (dlsym(h, wanted[i]))
                        printf("PASS: %s resolves\n", wanted[i]);
                else {
                        printf("FAIL: %s does not resolve\n", wanted[i]);
                        failed++;
                }
        }
        (void) dlclose(h);

        /* The exports: every defined global or weak symbol of .dynsym, read from the file. */
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                printf("FAIL: open %s: %s\n", argv[1], strerror(errno));
                return EXIT_FAILURE;
        }
        map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED || (size_t) st.st_size < sizeof(ElfW(Ehdr)) || memcmp(map, ELFMAG, SELFMAG) != 0) {
                printf("FAIL: %s is not an ELF file\n", argv[1]);
                return EXIT_FAILURE;
        }
        const ElfW(Ehdr) *eh = map;
        const ElfW(Shdr) *sh = (const ElfW(Shdr) *) ((const char *) map + eh->e_shoff);
        for (unsigned i = 0; i < eh->e_shnum; i++) {
                if (sh[i].sh_type != SHT_DYNSYM)
                        continue;
                const ElfW(Sym) *sym = (const ElfW(Sym) *) ((const char *) map + sh[i].sh_offset);
                const char *strtab = (const char *) map + sh[sh[i].sh_link].sh_offset;
                size_t n = sh[i].sh_size / sizeof(ElfW(Sym));

                for (size_t j = 0; j < n; j++) {
                        unsigned bind = ELF64_ST_BIND(sym[j].st_info), type = ELF64_ST_TYPE(sym[j].st_info);
                        const char *name = strtab + sym[j].st_name;
                        int is_wanted = 0;

                        if (sym[j].st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE))
                                continue;
                        /* A version node's own symbol (SHN_ABS, STT_OBJECT, size 0) is not code or data. */
                        if (sym[j].st_shndx == SHN_ABS && type == STT_OBJECT && sym[j].st_size == 0)
                                continue;
                        for (size_t k = 0; k < sizeof(wanted) / sizeof(wanted[0]); k++)
                                if (strcmp(name, wanted[k]) == 0)
                                        is_wanted = 1;
                        if (is_wanted)
                                found++;
                        else {
                                printf("FAIL: the module exports '%s'\n", name);
                                other++;
                        }
                }
        }
        munmap(map, st.st_size);
        if (found == sizeof(wanted) / sizeof(wanted[0]) && other == 0)
                printf("PASS: the module exports pam_sm_authenticate and pam_sm_setcred only\n");
        else {
                printf("FAIL: the module exports %u of the 2 entry points and %u other symbols\n", found, other);
                failed++;
        }
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
