use rust_decimal::Decimal;
use tesser_wasm::{
    export_plugin, ExecutionPlugin, PluginChildOrderAction, PluginInitContext,
    PluginOrderRequest, PluginOrderType, PluginResult, PluginSide, PluginTick,
};

#[derive(Default)]
struct ChasePlugin {
    symbol: String,
    side: PluginSide,
    remaining: Decimal,
    last_price: Decimal,
}

impl ExecutionPlugin for ChasePlugin {
    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, tesser_wasm::PluginError> {
        self.symbol = ctx.signal.symbol;
        self.side = ctx.signal.side;
        self.remaining = ctx.signal.target_quantity;
        self.last_price = ctx.risk.last_price;
        Ok(PluginResult::new())
    }

    fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, tesser_wasm::PluginError> {
        self.last_price = tick.price;
        Ok(PluginResult::new())
    }

    fn on_timer(&mut self) -> Result<PluginResult, tesser_wasm::PluginError> {
        if self.remaining <= Decimal::ZERO {
            return Ok(PluginResult::new().completed());
        }
        let slice = self.remaining.min(Decimal::new(1, 1));
        self.remaining -= slice;
        let request = PluginOrderRequest {
            symbol: self.symbol.clone(),
            side: self.side,
            order_type: PluginOrderType::Limit,
            quantity: slice,
            price: Some(self.last_price),
            trigger_price: None,
            time_in_force: None,
            client_order_id: None,
            take_profit: None,
            stop_loss: None,
            display_quantity: None,
        };
        Ok(PluginResult::new().with_order(PluginChildOrderAction::Place(request)))
    }
}

export_plugin!(ChasePlugin);
