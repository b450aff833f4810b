"""torch.optim.Adam with foreach on and off, as a user's subclass would pin a variant."""
import torch


class AdamForeach(torch.optim.Adam):
    def __init__(self, params, **kwargs):
        super().__init__(params, foreach=True, **kwargs)


class AdamSingleTensor(torch.optim.Adam):
    def __init__(self, params, **kwargs):
        super().__init__(params, foreach=False, **kwargs)
