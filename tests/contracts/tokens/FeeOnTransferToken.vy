# pragma version ~=0.4.3
"""
@title Test-only ERC-20 that can take a fee on every transfer
@notice With `fee_bps` above 0 the receiver gets `amount - fee` and the fee is
        burnt; the sender is debited `amount` (like USDT with its fee switched on).
"""

name: public(String[16])
symbol: public(String[8])
decimals: public(uint8)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)
fee_bps: public(uint256)


@deploy
def __init__(decimals_: uint8, fee_bps_: uint256):
    self.name = "Taxed"
    self.symbol = "TAX"
    self.decimals = decimals_
    self.fee_bps = fee_bps_


@external
def set_fee_bps(fee_bps_: uint256):
    self.fee_bps = fee_bps_


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount
    self.totalSupply += amount


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    self._move(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    if self.allowance[owner][msg.sender] != max_value(uint256):
        self.allowance[owner][msg.sender] -= amount
    self._move(owner, to, amount)
    return True


@internal
def _move(owner: address, to: address, amount: uint256):
    fee: uint256 = amount * self.fee_bps // 10_000
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount - fee
    self.totalSupply -= fee
