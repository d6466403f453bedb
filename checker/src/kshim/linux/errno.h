/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-in for the kernel header of the same name, used only by
 * the unit tests and the tuning tool (see ../kshim.h): just what the code
 * they build needs.
 */
#ifndef KSHIM_LINUX_ERRNO_H
#define KSHIM_LINUX_ERRNO_H

/*
 * As the kernel's: the numbers come from <asm/errno.h> (ENOMEM, ECANCELED,
 * ERANGE...). Not from <errno.h>, which includes <linux/errno.h>: this file.
 */
#include <asm/errno.h>

#endif
