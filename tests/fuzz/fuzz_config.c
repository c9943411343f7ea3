/* Fuzz the config file parser (libinih plus our checks). */
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "config/config.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  int fd = fuzz_memfile(data, size, path, sizeof path);
  if (fd < 0)
    return 0;
  struct config cfg;
  char err[512];
  config_init(&cfg);
  config_load(&cfg, path, err, sizeof err);
  config_release(&cfg);
  close(fd);
  return 0;
}
