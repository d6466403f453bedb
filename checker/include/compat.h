/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every kernel-version difference the kweb-lab modules meet.
 *
 * The stages build unchanged against Debian's 6.1 and 6.12 kernels (and
 * newer ones); whatever differs between versions is hidden here, keyed on
 * LINUX_VERSION_CODE, so that the stage sources stay free of #if.
 */
#ifndef KWEB_COMPAT_H
#define KWEB_COMPAT_H

#include <linux/version.h>
#include <linux/socket.h>

/*
 * kernel_bind() and kernel_connect() take a struct sockaddr_unsized *
 * since 6.19; before, a struct sockaddr *. Passing the wrong one is a hard
 * build error (-Werror=incompatible-pointer-types).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define KWEB_SOCKADDR(addr) ((struct sockaddr_unsized *)(addr))
#else
#define KWEB_SOCKADDR(addr) ((struct sockaddr *)(addr))
#endif

#endif /* KWEB_COMPAT_H */
