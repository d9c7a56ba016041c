/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_NAMESPACES_H
#define CR_NAMESPACES_H

#include <sys/types.h>

/*
 * Namespaces are not dumped yet: a process in a namespace other than
 * criu's would be restored into criu's, with its paths and ids read in the
 * wrong place. Refuse it, naming the namespace.
 */
int ns_check_same_as_criu(pid_t pid);

#endif
