"""The PediatricsGPT training recipe as a package: `train.data` builds the PedCorpus-style corpus
from the knowledge graph and the safety tables (`pedgpt data build`), and one module per stage
(continued pre-training with hybrid instructions, full SFT, DFPO preference optimisation and
MoE-LoRA secondary SFT) turns it into the checkpoint `pedgpt serve` loads (`pedgpt train ...`).
"""
