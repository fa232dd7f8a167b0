//! A pseudo-random trading session, generated up front with an LCG.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeEvent, OrderRequest, OrderType, Side,
    Tick, TimeInForce,
};

use super::{SYMBOL, print, print_of};

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn small(&mut self, n: u64) -> i64 {
        i64::try_from(self.below(n)).expect("small")
    }
}

/// One thing that happens to the exchange.
#[derive(Debug, Clone)]
pub enum Action {
    Place(OrderRequest, i64),
    Amend(AmendRequest, i64),
    Cancel(ClientOrderId, i64),
    Print(Tick),
    Poll,
}

/// `steps` steps of a session: each maybe a request, then a print of
/// `BTCUSD` (and sometimes one of `ETHUSD`), and every seventh step a poll.
pub fn scenario(seed: u64, steps: usize) -> Vec<Action> {
    let mut rng = Lcg(seed);
    let mut cents: i64 = 10_000;
    let mut placed: u64 = 0;
    let mut actions = Vec::new();
    let near = |rng: &mut Lcg, cents: i64| Decimal::new((cents + rng.small(41) - 20).max(1), 2);
    for i in 0..steps {
        let now = i64::try_from(i).expect("small") * 10;
        match rng.below(100) {
            0..=29 => {
                let id = format!("o-{placed}");
                placed += 1;
                let side = if rng.below(2) == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let quantity = Decimal::new(rng.small(300) + 1, 2);
                let order_type = match rng.below(10) {
                    0..=1 => OrderType::Market,
                    2..=7 => OrderType::Limit,
                    8 => OrderType::StopMarket,
                    _ => OrderType::StopLimit,
                };
                let time_in_force = match rng.below(10) {
                    0 => TimeInForce::ImmediateOrCancel,
                    1 => TimeInForce::FillOrKill,
                    2..=3 => TimeInForce::PostOnly,
                    _ => TimeInForce::GoodTilCancelled,
                };
                let price = near(&mut rng, cents);
                let trigger = near(&mut rng, cents);
                let request = OrderRequest {
                    client_order_id: id.into(),
                    symbol: SYMBOL.into(),
                    side,
                    order_type,
                    quantity,
                    price: matches!(order_type, OrderType::Limit | OrderType::StopLimit)
                        .then_some(price),
                    trigger_price: matches!(
                        order_type,
                        OrderType::StopMarket | OrderType::StopLimit
                    )
                    .then_some(trigger),
                    time_in_force,
                };
                actions.push(Action::Place(request, now));
            }
            30..=34 => {
                let id = ClientOrderId::new(format!("o-{}", rng.below(placed.max(1))));
                let new_price = (rng.below(2) == 0).then(|| near(&mut rng, cents));
                let new_quantity = (rng.below(2) == 0).then(|| Decimal::new(rng.small(400) + 1, 2));
                let amend = AmendRequest {
                    client_order_id: id,
                    new_price,
                    new_quantity,
                };
                actions.push(Action::Amend(amend, now));
            }
            35..=38 => {
                let id = ClientOrderId::new(format!("o-{}", rng.below(placed.max(1))));
                actions.push(Action::Cancel(id, now));
            }
            _ => {}
        }
        cents = (cents + rng.small(11) - 5).max(1);
        let size = Decimal::new(rng.small(500) + 1, 2);
        actions.push(Action::Print(print(Decimal::new(cents, 2), size, now + 5)));
        if rng.below(10) == 0 {
            actions.push(Action::Print(print_of(
                "ETHUSD",
                dec!(2000),
                dec!(1),
                now + 6,
            )));
        }
        if i % 7 == 0 {
            actions.push(Action::Poll);
        }
    }
    actions
}

/// What a run produced besides the exchange's state: the answers to the
/// requests (as text) and the polled events.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    pub answers: Vec<String>,
    pub events: Vec<ExchangeEvent>,
}

/// Applies `actions` to `exchange`, recording into `outcome`.
pub fn apply(exchange: &mut impl ExchangeClient, actions: &[Action], outcome: &mut Outcome) {
    for action in actions {
        match action {
            Action::Place(request, now) => {
                let answer = exchange.place_order(request.clone(), *now);
                outcome.answers.push(format!("{answer:?}"));
            }
            Action::Amend(amend, now) => {
                let answer = exchange.amend_order(amend, *now);
                outcome.answers.push(format!("{answer:?}"));
            }
            Action::Cancel(id, now) => {
                let answer = exchange.cancel_order(id, *now);
                outcome.answers.push(format!("{answer:?}"));
            }
            Action::Print(tick) => exchange.on_market_tick(tick),
            Action::Poll => exchange.poll_events(&mut outcome.events),
        }
    }
}
