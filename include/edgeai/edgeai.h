// Umbrella header: everything an embedding application needs.
#pragma once

#include "edgeai/data_type.h"
#include "edgeai/engine.h"
#include "edgeai/shape.h"
#include "edgeai/status.h"
#include "edgeai/tensor.h"
