// Nothing to call: the module holds a constructor that runs before main (see early.c).
#ifndef CWATCHDOG_SIGNALS_H
#define CWATCHDOG_SIGNALS_H
#endif
