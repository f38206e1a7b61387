#include <usbg/usbg.h>
#include <usbg/function/ffs.h>
