# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title FIFO queues of held withdrawals, one per token (ERC-7265 settlement style)
@custom:contract-name withdrawal_queue
@license GNU Affero General Public License v3.0 only
@notice A withdrawal that would take a token's global outflow over its cap
        is not refused and does not halt anything: it is held here, under
        its request id, and paid later, first in first out, once the
        rolling window has room for it (ERC-7265's settlement module locks
        the funds and lets the recipient claim them the same way).

        The module keeps only the bookkeeping: the held entries, one queue
        of request ids per token (`head` .. `tail`), and the total held per
        token. The caller checks the limits, moves the tokens and logs.

        An entry leaves the queue when it is paid (`_take_head`) or
        cancelled (`_drop`). A cancelled entry in the middle of a queue
        stays as a hole (amount 0) that the head skips: `_advance` steps
        over at most `MAX_SKIP` holes per call, and every call that moves
        the head calls it, so a queue never needs a loop over its length.

        Usage:
        ```vy
        from lib import withdrawal_queue
        initializes: withdrawal_queue
        ...
        withdrawal_queue._push(request_id, user, token, amount)
        ```
"""


# @dev Holes (cancelled entries) the head steps over per call.
MAX_SKIP: constant(uint256) = 64


# @dev A held withdrawal; `amount` 0 means no entry (never held, paid or cancelled).
# (the position and time are in the `WithdrawalQueued` event, not in storage: three slots per entry)
struct Held:
    user: address
    token: address
    amount: uint256


# @dev Held withdrawals by request id.
held: public(HashMap[bytes32, Held])

# @dev The request id at each position of a token's queue.
queue_at: public(HashMap[address, HashMap[uint256, bytes32]])

# @dev The position of the oldest entry that may still be held (positions below it are settled).
queue_head: public(HashMap[address, uint256])

# @dev The position the next held withdrawal of a token gets.
queue_tail: public(HashMap[address, uint256])

# @dev The sum of the amounts held per token.
held_total: public(HashMap[address, uint256])


@internal
def _push(request_id: bytes32, user: address, token: address, amount: uint256) -> uint256:
    """
    @dev Hold `amount` of `token` for `user` under `request_id`, at the end
         of the token's queue.
    @notice The caller guarantees that `request_id` is not held, paid or
            cancelled, and that `amount` is above 0.
    @param request_id The withdrawal's request id.
    @param user The receiver.
    @param token The token.
    @param amount The amount in token units (above 0).
    @return uint256 The entry's position in the token's queue.
    """
    position: uint256 = self.queue_tail[token]
    self.queue_tail[token] = position + 1
    self.queue_at[token][position] = request_id
    self.held[request_id] = Held(user=user, token=token, amount=amount)
    self.held_total[token] += amount
    return position


@internal
def _advance(token: address) -> bytes32:
    """
    @dev Move the head of `token`'s queue past holes (at most `MAX_SKIP`)
         and return the request id now at the head.
    @param token The token.
    @return bytes32 The oldest held request id, or zero if the queue is
            empty (or more than `MAX_SKIP` holes remain to skip).
    """
    head: uint256 = self.queue_head[token]
    tail: uint256 = self.queue_tail[token]
    for _: uint256 in range(MAX_SKIP):
        if head == tail:
            break
        request_id: bytes32 = self.queue_at[token][head]
        if self.held[request_id].amount != 0:
            self.queue_head[token] = head
            return request_id
        head += 1
    self.queue_head[token] = head
    if head == tail:
        return empty(bytes32)
    request_id: bytes32 = self.queue_at[token][head]
    if self.held[request_id].amount != 0:
        return request_id
    return empty(bytes32)


@internal
def _take_head(token: address) -> Held:
    """
    @dev Remove the entry at the head of `token`'s queue and return it.
    @notice The caller has checked that the head is held (`_advance`).
    @param token The token.
    @return Held The entry as it was held.
    """
    head: uint256 = self.queue_head[token]
    request_id: bytes32 = self.queue_at[token][head]
    entry: Held = self.held[request_id]
    self.held[request_id] = empty(Held)
    self.held_total[token] -= entry.amount
    self.queue_head[token] = head + 1
    return entry


@internal
def _drop(request_id: bytes32) -> Held:
    """
    @dev Remove the held entry `request_id` wherever it is in its queue
         (it leaves a hole that the head skips).
    @notice The caller has checked that `request_id` is held.
    @param request_id The request id.
    @return Held The entry as it was held.
    """
    entry: Held = self.held[request_id]
    self.held[request_id] = empty(Held)
    self.held_total[entry.token] -= entry.amount
    return entry


@internal
@view
def _queue_length(token: address) -> uint256:
    """
    @dev Return how many positions of `token`'s queue lie between the head
         and the tail (holes included).
    @param token The token.
    @return uint256 The number of positions.
    """
    return self.queue_tail[token] - self.queue_head[token]
