// SPDX-License-Identifier: GPL-2.0
/*
 * As tree_subreaper, but A calls setsid() before it forks B: the orphan B,
 * reparented to the root, stays in the session and group of A, whose
 * leader is gone. See tree_subreaper.h.
 */
#include "tree_subreaper.h"

int main(int argc, char **argv)
{
	test_init(argc, argv);
	subreaper_test(true);
}
