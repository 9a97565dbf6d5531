"""Chapter 4 (``04_teacher_guided_loop``): a teacher hands the learner its updates.

Submodules: ``loop`` (the four-step loop and the teacher interface), ``linear`` (the gradient
teacher, the source article's teacher and the exact linear teacher), ``meta_sgd`` (learned
initialisation and per-parameter step sizes), ``learned_optimizer`` (a small coordinate-wise
network trained to produce updates) and ``curriculum`` (a teacher that picks the next task).
"""

from metalearn_lib.teacher.curriculum import (
    ChainTasks,
    CurriculumResult,
    CurriculumTeacher,
    UniformTeacher,
    compare_teachers,
    run_curriculum,
)
from metalearn_lib.teacher.learned_optimizer import (
    LearnedOptimizerTeacher,
    ScaledFeatures,
    compare_optimizers,
    init_learned_optimizer,
    learned_update,
    meta_train_learned_optimizer,
    unrolled_loss,
)
from metalearn_lib.teacher.linear import (
    ArticleTeacher,
    ExactLinearTeacher,
    GradientTeacher,
    article_analysis,
    descent_cosine,
    linear_loss,
    max_stable_learning_rate,
)
from metalearn_lib.teacher.loop import LearnerState, Teacher, Trajectory, run_teacher_loop, steps_to_target
from metalearn_lib.teacher.meta_sgd import MetaSGDTeacher, evaluate_meta_sgd, meta_train_meta_sgd

__all__ = [
    "ArticleTeacher",
    "ChainTasks",
    "CurriculumResult",
    "CurriculumTeacher",
    "ExactLinearTeacher",
    "GradientTeacher",
    "LearnedOptimizerTeacher",
    "LearnerState",
    "MetaSGDTeacher",
    "ScaledFeatures",
    "Teacher",
    "Trajectory",
    "UniformTeacher",
    "article_analysis",
    "compare_optimizers",
    "compare_teachers",
    "descent_cosine",
    "evaluate_meta_sgd",
    "init_learned_optimizer",
    "learned_update",
    "linear_loss",
    "max_stable_learning_rate",
    "meta_train_learned_optimizer",
    "meta_train_meta_sgd",
    "run_curriculum",
    "run_teacher_loop",
    "steps_to_target",
    "unrolled_loss",
]
