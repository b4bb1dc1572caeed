#include "edgeai/engine.h"
