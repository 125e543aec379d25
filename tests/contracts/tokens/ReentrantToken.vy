# pragma version ~=0.4.3
"""
@title Test-only ERC-20 that calls back into a contract from inside its transfers
@notice `arm(target, data)` makes the next transfer or transferFrom call `target`
        with `data` before moving the tokens; the outcome is kept in
        `reentry_succeeded` so a test can tell whether the callee let it in.
"""

name: public(String[16])
symbol: public(String[8])
decimals: public(uint8)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)

target: public(address)
payload: public(Bytes[512])
reentry_attempted: public(bool)
reentry_succeeded: public(bool)


@deploy
def __init__(decimals_: uint8):
    self.name = "Reentrant"
    self.symbol = "REENT"
    self.decimals = decimals_


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount
    self.totalSupply += amount


@external
def arm(target: address, payload: Bytes[512]):
    self.target = target
    self.payload = payload
    self.reentry_attempted = False
    self.reentry_succeeded = False


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    self._reenter()
    self._move(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    self._reenter()
    if self.allowance[owner][msg.sender] != max_value(uint256):
        self.allowance[owner][msg.sender] -= amount
    self._move(owner, to, amount)
    return True


@internal
def _move(owner: address, to: address, amount: uint256):
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount


@internal
def _reenter():
    target: address = self.target
    if target == empty(address):
        return
    self.target = empty(address)
    self.reentry_attempted = True
    self.reentry_succeeded = raw_call(target, self.payload, max_outsize=0, revert_on_failure=False)
