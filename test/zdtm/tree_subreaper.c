// SPDX-License-Identifier: GPL-2.0
/*
 * An orphan reparented to the root, a child subreaper: the root forks A,
 * A forks B and exits, the root reaps A and becomes B's parent. B is in
 * the root's session and group. See tree_subreaper.h.
 */
#include "tree_subreaper.h"

int main(int argc, char **argv)
{
	test_init(argc, argv);
	subreaper_test(false);
}
