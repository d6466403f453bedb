// SPDX-License-Identifier: GPL-2.0
/*
 * kecho - kweb-lab stage 1: a TCP echo server run by kernel threads.
 *
 * One kernel thread blocks in kernel_accept() on the listening socket. Each
 * client it accepts gets a kernel thread of its own, which sends back every
 * byte it receives until the client closes the connection.
 *
 * Unloading must never leave a thread running module code that is about to
 * be freed, so the exit path wakes every sleeper before it stops it:
 * shutting a socket down makes the kernel_accept() or kernel_recvmsg()
 * sleeping on it return, and kthread_stop() then waits for the thread to
 * finish.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/in.h>
#include <linux/inet.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "compat.h"

#define KWEB_BACKLOG	128
#define KWEB_BUF_SIZE	4096

static char *host = "0.0.0.0";
module_param(host, charp, 0444);
MODULE_PARM_DESC(host, "IPv4 address to listen on (default 0.0.0.0)");

static int port = 9999;
module_param(port, int, 0444);
MODULE_PARM_DESC(port, "TCP port to listen on (default 9999)");

/* One connected client and the thread that serves it. */
struct kweb_client {
	struct socket *sock;
	struct task_struct *thread;
	bool done;			/* the thread has finished serving */
	struct list_head list;
};

static struct socket *listen_sock;
static struct task_struct *accept_thread;

/*
 * Clients not yet reaped. Only the accept thread touches the list while the
 * module runs, and only the exit path after the accept thread has stopped,
 * so the list needs no lock.
 */
static LIST_HEAD(clients);

/* Send all of buf, or fail. */
static int kweb_send_all(struct socket *sock, const char *buf, size_t len)
{
	while (len > 0) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		struct kvec vec = { .iov_base = (char *)buf, .iov_len = len };
		int sent = kernel_sendmsg(sock, &msg, &vec, 1, len);

		if (sent <= 0)
			return sent ? sent : -EPIPE;
		buf += sent;
		len -= sent;
	}
	return 0;
}

static int kweb_client_thread(void *data)
{
	struct kweb_client *client = data;
	char *buf;

	buf = kmalloc(KWEB_BUF_SIZE, GFP_KERNEL);
	if (!buf)
		goto out;

	while (!kthread_should_stop()) {
		struct msghdr msg = { };
		struct kvec vec = { .iov_base = buf, .iov_len = KWEB_BUF_SIZE };
		int len;

		/* Returns 0 when the client closes or the socket is shut down. */
		len = AAAA;
		if (len <= 0)
			break;
		if (kweb_send_all(client->sock, buf, len))
			break;
	}
	kfree(buf);
out:
	kernel_sock_shutdown(client->sock, SHUT_RDWR);
	/* Pairs with READ_ONCE() in kweb_reap(). */
	WRITE_ONCE(client->done, true);
	return 0;
}

/*
 * Stop one client's thread and free what it used. kthread_stop() waits until
 * the thread function has returned; the reference taken in kweb_serve()
 * keeps the task valid even if the thread finished long ago.
 */
static void kweb_release(struct kweb_client *client)
{
	list_del(&client->list);
	kernel_sock_shutdown(client->sock, SHUT_RDWR);
	kthread_stop(client->thread);
	put_task_struct(client->thread);
	sock_release(client->sock);
	kfree(client);
}

/* Free the clients whose threads have finished on their own. */
static void kweb_reap(void)
{
	struct kweb_client *client, *tmp;

	list_for_each_entry_safe(client, tmp, &clients, list)
		if (READ_ONCE(client->done))
			kweb_release(client);
}

/* Start a thread for a newly accepted client; consumes sock on failure. */
static void kweb_serve(struct socket *sock)
{
	struct kweb_client *client;

	client = kzalloc(sizeof(*client), GFP_KERNEL);
	if (!client)
		goto err_release;
	client->sock = sock;
	client->thread = kthread_create(kweb_client_thread, client,
					"kecho/client");
	if (IS_ERR(client->thread)) {
		pr_warn("cannot start a client thread: %ld\n",
			PTR_ERR(client->thread));
		goto err_free;
	}
	get_task_struct(client->thread);
	list_add_tail(&client->list, &clients);
	wake_up_process(client->thread);
	return;

err_free:
	kfree(client);
err_release:
	sock_release(sock);
}

static int kweb_accept_thread(void *data)
{
	while (BBBB) {
		struct socket *sock;
		int err;

		err = CCCC;
		if (err == -EINVAL) {
			/*
			 * The listener was shut down: the module is unloading.
			 * Sleep until kthread_stop() wakes us.
			 */
			set_current_state(TASK_INTERRUPTIBLE);
			if (!kthread_should_stop())
				schedule();
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (err < 0) {
			/* kthread_stop() interrupts the wait on newer kernels. */
			if (err != -ERESTARTSYS && err != -EINTR)
				pr_warn_ratelimited("accept failed: %d\n", err);
			continue;
		}
		kweb_reap();
		kweb_serve(sock);
	}
	return 0;
}

static int kweb_listen(struct socket **res, __be32 addr, u16 port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = addr,
		.sin_port = htons(port),
	};
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err < 0)
		return err;
	sock_set_reuseaddr(sock->sk);
	err = kernel_bind(sock, KWEB_SOCKADDR(&sin), sizeof(sin));
	if (err < 0)
		goto err_release;
	err = kernel_listen(sock, KWEB_BACKLOG);
	if (err < 0)
		goto err_release;
	*res = sock;
	return 0;

err_release:
	sock_release(sock);
	return err;
}

static int __init kweb_init(void)
{
	__be32 addr;
	int err;

	if (!in4_pton(host, -1, (u8 *)&addr, -1, NULL)) {
		pr_err("host=%s is not an IPv4 address\n", host);
		return -EINVAL;
	}
	if (port < 1 || port > 65535) {
		pr_err("port=%d is not in 1..65535\n", port);
		return -EINVAL;
	}

	err = kweb_listen(&listen_sock, addr, port);
	if (err < 0) {
		pr_err("cannot listen on %s:%d: %d\n", host, port, err);
		return err;
	}

	accept_thread = DDDD;
	if (IS_ERR(accept_thread)) {
		err = PTR_ERR(accept_thread);
		pr_err("cannot start the accept thread: %d\n", err);
		sock_release(listen_sock);
		return err;
	}

	pr_info("echo server listening on %s:%d\n", host, port);
	return 0;
}

static void __exit kweb_exit(void)
{
	struct kweb_client *client, *tmp;

	/* Wake the accept thread out of kernel_accept(), then stop it. */
	EEEE;
	kthread_stop(accept_thread);

	/* No new client can appear now: stop and free every one left. */
	list_for_each_entry_safe(client, tmp, &clients, list)
		kweb_release(client);

	sock_release(listen_sock);
	pr_info("echo server stopped\n");
}

module_init(kweb_init);
module_exit(kweb_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kweb-lab");
MODULE_DESCRIPTION("kweb-lab stage 1: TCP echo server in kernel threads");
