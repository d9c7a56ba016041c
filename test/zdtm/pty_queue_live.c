// SPDX-License-Identifier: GPL-2.0
/* zdtm: dump-opts=--leave-running */
/*
 * Data queued in both directions of a pty pair (see pty_queue.h), dumped
 * with --leave-running: criu takes the queues to save them and must put
 * them back exactly, as the original goes on and checks them.
 */
#include "pty_queue.h"

int main(int argc, char **argv)
{
	return queue_main(argc, argv);
}
