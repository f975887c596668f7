"""Push: WebSub subscriptions to the hubs feeds name, and the pushes those hubs send back."""
