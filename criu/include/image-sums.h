/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_IMAGE_SUMS_H
#define CR_IMAGE_SUMS_H

#define IMAGE_SUMS_NAME "checksums.img"

/* Dump, first: a checksums.img from an earlier dump in the same dir must not vouch for this one. */
int image_sums_forget(int imgdir_fd);
/* Dump, last: checksums of every image file, written under a temporary name and renamed. */
int image_sums_write(int imgdir_fd);
/*
 * Restore, first: checksums.img sealed, every file it lists there with its
 * size and block sums, and no other image file. Errors name the file and
 * the offset ("FILE: checksum mismatch at offset N").
 */
int image_sums_verify(int imgdir_fd);

#endif
