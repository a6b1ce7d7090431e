/*
 * pause is the infrastructure process of a pod sandbox: it holds the sandbox's namespaces open and
 * does nothing else. It sleeps until SIGTERM or SIGINT, then exits 0. As PID 1 of a shared PID
 * namespace it must also reap orphaned children, or they would stay zombies for the pod's lifetime.
 *
 * The up.sh script builds it with `gcc -static` because the image it goes into has no libc.
 */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_child(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction stop = { .sa_handler = on_stop };
	struct sigaction child = { .sa_handler = on_child, .sa_flags = SA_NOCLDSTOP | SA_RESTART };

	/* A PID 1 ignores every signal it has no handler for, so the handlers are what make it stoppable. */
	if (sigaction(SIGTERM, &stop, NULL) != 0 || sigaction(SIGINT, &stop, NULL) != 0 ||
	    sigaction(SIGCHLD, &child, NULL) != 0)
		return 1;
	for (;;)
		pause();
}
