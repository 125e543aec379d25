# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Devnet ERC-20 with a public faucet
@custom:contract-name DevToken
@license GNU Affero General Public License v3.0 only
@notice A snekmate ERC-20 whose `mint(to, amount)` is open to anyone.
        For local devnets and tests only: the deploy script never deploys
        it off a devnet, where real token addresses come from options.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

implements: IERC20
implements: IERC20Detailed

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

# `erc20.mint` is minter-gated; the faucet below replaces it.
exports: (
    erc20.transfer,
    erc20.approve,
    erc20.transferFrom,
    erc20.burn,
    erc20.burn_from,
    erc20.permit,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.balanceOf,
    erc20.allowance,
    erc20.totalSupply,
    erc20.nonces,
    erc20.owner,
)


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @dev Set the token metadata; the deployer owns nothing special.
    @param name_ The token name, at most 25 characters.
    @param symbol_ The token symbol, at most 5 characters.
    @param decimals_ The decimal places of the token.
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, decimals_, name_, "1")


@external
def mint(to: address, amount: uint256):
    """
    @dev Mint `amount` tokens to `to`. Anyone may call it: devnet faucet.
    @param to The receiver of the new tokens.
    @param amount The amount to mint, in the token's smallest unit.
    """
    erc20._mint(to, amount)
