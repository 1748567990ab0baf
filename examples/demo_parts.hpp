// The demo's parts that live in their own files.
#pragma once

#include <chrono>

/// Part 4: the replicated data tree with sessions and watches.
void data_tree_part(std::chrono::milliseconds finalize_wait);
