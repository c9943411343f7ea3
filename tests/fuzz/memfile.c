#include "memfile.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int fuzz_memfile(const uint8_t *data, size_t size, char *path,
                 size_t path_size) {
  int fd = memfd_create("agon-fuzz", 0);
  if (fd < 0)
    return -1;
  if (write(fd, data, size) != (ssize_t)size ||
      (size_t)snprintf(path, path_size, "/proc/self/fd/%d", fd) >= path_size)
    goto fail;
  return fd;
fail:
  close(fd);
  return -1;
}
