// The demo's parts that live in their own files.
#pragma once

#include <chrono>
#include <string>

/// Part 4: the replicated data tree with sessions and watches, each member keeping its state in
/// <data_dir>/member-<id> (FileStorage). The tree of an earlier run there is found and shown.
void data_tree_part(std::chrono::milliseconds finalize_wait, const std::string& data_dir);
