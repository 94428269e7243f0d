"""Chapter: IFN-γ as a predictor of response."""
