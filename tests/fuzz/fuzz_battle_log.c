/* Fuzz the battle-log import parser (JSON array or JSON lines). */
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "fastchat/battle_log.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  int fd = fuzz_memfile(data, size, path, sizeof path);
  if (fd < 0)
    return 0;
  struct battle_log log;
  char err[512];
  battle_log_init(&log);
  if (battle_log_read(&log, path, BATTLE_LOG_KEEP | BATTLE_LOG_META, NULL, NULL,
                      err, sizeof err) == 0)
    battle_log_sort(&log);
  battle_log_release(&log);
  close(fd);
  return 0;
}
