/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_CONFIG_H
#define CR_CONFIG_H

/* argv with the options of the configuration files first, then the command line's. */
int config_build_argv(int argc, char **argv, int *new_argc, char ***new_argv);

#endif
