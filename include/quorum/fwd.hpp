// Forward declarations of quorum's public classes, for headers that only name them.
#pragma once

namespace quorum {
struct Zxid;
struct Vote;
struct Notification;
struct ElectionConfig;
class QuorumVerifier;
class ElectionCore;
template <class TransportPolicy, class StoragePolicy>
class Election;
class MemoryStorage;
class LeaderCore;
class FollowerCore;
class KvStateMachine;
struct Txn;
struct QuorumPacket;
template <class TransportPolicy, class StoragePolicy, class MachinePolicy>
class Replica;
template <class MachinePolicy, class StoragePolicy = MemoryStorage>
class InProcReplica;
class SimTransport;
class InProcHub;
class InProcTransport;
class InProcMember;
class Prng;
namespace sim {
class Network;
class ElectionCluster;
class MemoryDisk;
template <class Disk>
class BasicReplicaCluster;
using ReplicaCluster = BasicReplicaCluster<MemoryDisk>;
}  // namespace sim
}  // namespace quorum
