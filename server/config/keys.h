/* The keys of every config section, as data: load.c reads a file with
 * these tables (config_sections), and tests walk them, so a key added to a
 * table is tested as it is read. Read-only. */
#ifndef AGON_CONFIG_KEYS_H
#define AGON_CONFIG_KEYS_H

#include <stddef.h>

#include "config/config.h"

struct config_load; /* a file being read (load.c) */

/* What a value is, and where it goes (the field at offset). */
enum config_kind {
  CONFIG_LONG,    /* a whole number from min to max (a long) */
  CONFIG_DOUBLE,  /* a finite number from min to max (a double) */
  CONFIG_BOOL,    /* true, yes, on, 1 or false, no, off, 0 (an int) */
  CONFIG_STRING,  /* anything but empty (a char *) */
  CONFIG_LIST,    /* items split on commas, trimmed, lowercased, the
                     empty ones dropped (a char **, and its size_t
                     count at offset count) */
  CONFIG_SPECIAL, /* read by set */
};

struct config_key {
  const char *name;
  enum config_kind kind;
  size_t offset;     /* of its field in the table's struct; CONFIG_SPECIAL:
                        of the main one, set may fill others */
  size_t count;      /* CONFIG_LIST: offset of the count of items */
  double min, max;   /* CONFIG_LONG, CONFIG_DOUBLE: the range, both ends
                        in (whole numbers for CONFIG_LONG) */
  const char *error; /* what a bad value's message says after "KEY: ",
                        before ", got 'VALUE'" (CONFIG_STRING: an empty
                        one's, alone); NULL for lists (every value is
                        taken) and special keys with messages of their
                        own */
  /* CONFIG_SPECIAL: checks value and stores it into obj, the table's
   * struct. Returns 0, or -1 with the error recorded. */
  int (*set)(struct config_load *ctx, const struct config_key *key,
             void *obj, const char *value);
};

/* Keys (ending with {0}) of one struct, which sits at base in the
 * section's object. */
struct config_table {
  const struct config_key *keys;
  size_t base;
};

/* A section, [NAME]; or, when find is set, a named one, [NAME OBJECT]
 * (say [model gpt-4o]), one object per name. */
struct config_section {
  const char *name;
  /* Named sections: the object of that name, or NULL. */
  const void *(*find)(const struct config *cfg, const char *name);
  /* Named sections: a new object with its defaults, or NULL with the
   * error recorded. (Other sections' keys fill struct config.) */
  void *(*add)(struct config_load *ctx, const char *name);
  /* Its keys, in one table or two: a [judge] has a [model]'s connection
   * keys and its own. */
  struct config_table tables[2];
};

/* Every section, ending with {0}. */
extern const struct config_section config_sections[];

#endif
