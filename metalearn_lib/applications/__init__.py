"""Chapter 8 (``08_applications``): meta-learning's applications, each one a measured experiment.

Submodules (each imports only earlier chapters, the ground floor and the utilities):

* ``families`` — task families beyond chapter 2's: shifted sinusoid families, square waves,
  mixtures of families (the test worlds of the cross-domain experiments);
* ``multi_task`` — the MAML authors' multi-task baselines: many separate regressors trained as
  one batched computation, averaged (chapter 3) and fine-tuned;
* ``starting_points`` — the sinusoid starts compared (MAML, Meta-SGD, pretrained, MAML on a broader
  family, scratch), their recipes and the shipped copies;
* ``shift`` — fine-tuning a start on shifted families (mean and normalised error, divergence), and a
  baseline's tuned fine-tuning step;
* ``efficiency`` — sample efficiency: the support points a start needs to reach a target error;
* ``streams`` — drifting and switching sinusoid streams, batched over streams;
* ``online`` — learners that track a stream: frozen, fine-tuning on, re-adapting MAML, online
  meta-learning, Hedge over experts with fixed share;
* ``bandit_shift`` — chapter 5's agents on arm distributions they were not trained on, with the
  Bayes-optimal policy of the new prior;
* ``bandit_switching`` — bandits whose arms switch, and the agents that follow them.
"""
