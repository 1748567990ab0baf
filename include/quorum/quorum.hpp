// The common headers in one: election, ZAB and the replica that composes them, the data tree
// with its member (Node) and client (Session), memory storage, and the in-process and
// simulated transports. Never Asio.
#pragma once

#include "quorum/concepts.hpp"
#include "quorum/config.hpp"
#include "quorum/election/describe.hpp"
#include "quorum/election/election.hpp"
#include "quorum/election/election_core.hpp"
#include "quorum/error.hpp"
#include "quorum/inproc_ensemble.hpp"
#include "quorum/inproc_member.hpp"
#include "quorum/inproc_replica.hpp"
#include "quorum/message.hpp"
#include "quorum/node.hpp"
#include "quorum/random.hpp"
#include "quorum/replica.hpp"
#include "quorum/storage/memory.hpp"
#include "quorum/transport/inproc.hpp"
#include "quorum/transport/sim.hpp"
#include "quorum/tree/data_tree.hpp"
#include "quorum/types.hpp"
#include "quorum/version.hpp"
