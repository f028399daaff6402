"""The Reflex UI: state per feature, stateless components, views, thin pages."""
