// SPDX-License-Identifier: GPL-2.0
/*
 * A memfd mapped MAP_SHARED by a parent and its child: the same checks as
 * tree_shared_anon (see tree_shared.h), on a memfd's pages. The memfd's
 * descriptor is closed once it is mapped (memfd descriptors can't be dumped
 * yet): only the mappings keep the object.
 */
#include <sys/mman.h>

#include "tree_shared.h"

int main(int argc, char **argv)
{
	unsigned char *mem;
	int fd;

	test_init(argc, argv);
	fd = memfd_create("tree_memfd_shared", MFD_CLOEXEC);
	if (fd < 0)
		fail_errno("memfd_create");
	if (ftruncate(fd, NR_PAGES * PAGE))
		fail_errno("ftruncate");
	mem = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		fail_errno("mmap");
	close(fd);
	shared_mem_test(mem);
}
