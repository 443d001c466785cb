/*
 * pipe.c - the tutorial's pipe program, reconstructed from the tutorial and kept with its
 * bugs, as a student finds it (the bugs are fixed in c/pipe.c; the Rust port is
 * crates/pipe/examples/pipe.rs). The parent writes one word into a pipe, the child reads it.
 *
 * Its bugs, kept on purpose: scanf("%s") stops at the first space and has no bound;
 * write(fd[1], buffer, sizeof(buffer)) sends all 100 bytes, the garbage after the text too;
 * neither side closes the end it does not use; no wait(), so the parent may exit before the
 * child prints; no return value is checked. And, when stdout is not a terminal (a pipe, a
 * file), the two lines printed before fork() are still in stdio's buffer and both processes
 * print them: they appear twice.
 */
#include<stdio.h>
#include<unistd.h>
#include<string.h>
#include<sys/types.h>

int main()
{
    int fd[2], n;
    char buffer[100];
    pid_t p;

    pipe(fd);
    printf("Pipe Created Successfully...\n");
    printf("Descriptors are: %d %d\n", fd[0], fd[1]);
    p = fork();
    if (p > 0) {
        printf("Parent Process....\n");
        printf("Enter Data To Be Written To Pipe\n");
        scanf("%s", buffer);
        write(fd[1], buffer, sizeof(buffer));
        printf("Pipe Written Successfully..\n");
    } else {
        printf("Child Process\n");
        n = read(fd[0], buffer, 100);
        printf("Pipe Read Successfully\n");
        printf("%s\n", buffer);
    }
    return 0;
}
