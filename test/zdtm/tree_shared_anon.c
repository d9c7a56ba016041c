// SPDX-License-Identifier: GPL-2.0
/*
 * MAP_SHARED | MAP_ANONYMOUS memory shared by a parent and its child: one
 * shmem object, which must come back as one, mapped by both, with every
 * page each process wrote and zero where nobody did (see tree_shared.h).
 */
#include "tree_shared.h"

int main(int argc, char **argv)
{
	unsigned char *mem;

	test_init(argc, argv);
	mem = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail_errno("mmap");
	shared_mem_test(mem);
}
