"""The deployment's own base rate of correct answers, which the model's inputs are relative to.

Weights store the base rate of the logs they were trained on (``TrainedWeights.prior_rate``):
the rate an item's and a tag's answer tallies are smoothed toward and the ``prior_logit``
input. A deployment's students may answer right far less or more often (ASSISTments 2017:
0.37 of answers right, where the training mix had 0.72), and the benchmark's new-deployment
model (``metatutor_lodo``) always used the deployment's own rate from its students' tallies.
The service does the same through :func:`deployment_rate` once its students have given
:data:`MIN_ANSWERS` answers (before that a rate says little, and the weights' own is kept), shrunk
a little toward the weights' rate. The service reads the totals every few minutes
(``tutor.learner.BASE_RATE_EVERY``) and ``metatutor model replay`` once at its start, so a
replayed state can differ slightly from the live one where the rate moved meanwhile.
"""

from __future__ import annotations

#: Answers below which a deployment keeps the weights' rate.
MIN_ANSWERS = 1000
#: Pseudo-answers of the weights' rate mixed into the deployment's.
PSEUDO_ANSWERS = 50.0
#: A rate is kept within these bounds, as the features clip it.
LOWEST, HIGHEST = 0.02, 0.98


def deployment_rate(answers: int, correct: int, weights_rate: float) -> float:
    """The base rate of a deployment whose students gave ``answers`` answers, ``correct`` of
    them right, shrunk toward ``weights_rate`` by :data:`PSEUDO_ANSWERS` (``weights_rate``
    itself below :data:`MIN_ANSWERS`)."""
    if answers < 0 or correct < 0 or correct > answers:
        raise ValueError(f"a tally of {correct} right out of {answers} answers is impossible")
    if answers < MIN_ANSWERS:
        return weights_rate
    rate = (correct + PSEUDO_ANSWERS * weights_rate) / (answers + PSEUDO_ANSWERS)
    return min(max(rate, LOWEST), HIGHEST)
