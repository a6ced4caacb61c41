"""Known checksums of every dataset file :mod:`ftlib.data` reads.

Content checksums are taken over the *decompressed* bytes wherever a file is
compressed, so a file that was re-compressed (other gzip header, other level)
still verifies, while any change of a pixel or a label does not.

How each value was obtained
---------------------------
MNIST
    sha256 of the decompressed idx files, from ``mnist/PROVENANCE.md`` of the
    shared data folder. Their md5 (6bbc9ace..., a25bea73..., 2646ac64...,
    27ae3e4e...) equal the widely published md5 of LeCun's original files.
Fashion-MNIST
    Computed from Debian's ``dataset-fashion-mnist`` package
    (0.0~git20200523.55506a9-1, ``/usr/share/datasets/fashion-mnist``).
    Debian's ``.gz`` files are byte-different from the files on Zalando's
    mirror, so their md5 do not equal the ``.gz`` md5 published in Zalando's
    README (8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd...). Their
    decompressed content does match: its md5 (f4a8712d..., 9018921c...,
    8181f547..., 15d48437...) and sha256 (below) equal independent public
    tables of the decompressed originals (loaders that list both the mirror's
    ``.gz`` md5 and the raw md5, and a loader whose raw sha256 were derived
    from archives matching Zalando's ``.gz`` md5). The label histograms are
    6,000 per class (train) and 1,000 per class (test), as published.
CIFAR-10, shared format
    sha256 of the decompressed raw uint8 arrays and of ``cifar10-meta.npz``,
    from ``cifar10/PROVENANCE.md`` (recomputed here and equal).
CIFAR-10, torchvision layout
    md5 of the original ``cifar-10-batches-py`` pickles and of the official
    ``cifar-10-python.tar.gz``, as listed by torchvision (``CIFAR10.train_list``,
    ``test_list``, ``meta``, ``tgz_md5``). A pickle is only unpickled after its
    md5 matched, because unpickling untrusted data can run code.
Boston Housing
    sha256 of ``boston_housing.csv`` from ``boston/PROVENANCE.md``; the copy
    shipped in ``ftlib/datasets/`` is byte-identical.
"""

from __future__ import annotations

#: sha256 of decompressed content, by dataset, then by file stem.
CONTENT_SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    "cifar10": {
        "cifar10-train-data.u8": "9d5c2eddadb0deff02c14c350c0385aab7b1d5ff1edfeb4997c8dc8644960111",
        "cifar10-test-data.u8": "9115ee1d7f81da55928cfa02ead0957a57fa6b9abc31798109b236c596c77a4d",
        "cifar10-meta.npz": "002230cbfe733e1285a9ee44088c8814b051fe034ae9b002bf3a29e3c8951471",
    },
    "boston": {
        "boston_housing.csv": "8594f084258ead302f20a7479463f7a7584d33fe00042d442a7101530c8b46de",
    },
}

#: md5 of the original CIFAR-10 python pickles (``cifar-10-batches-py/``).
CIFAR10_PICKLE_MD5: dict[str, str] = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}

#: md5 of the official CIFAR-10 archive ``cifar-10-python.tar.gz``.
CIFAR10_ARCHIVE_MD5: str = "c58f30108f718f92721af3b95e74349a"

#: sha256 of the snn_patterns authors' trained checkpoints (GitHub
#: ``samsam779/Fault-tolerant_Training_with_Adversarial_Attack_Patterns``, commit
#: 191a87ba872e2970590541a776ba89d898780784, folder ``models/``), from
#: ``snn_patterns_authors/PROVENANCE.md`` of the shared data folder (whole files, not decompressed).
SNN_AUTHORS_SHA256: dict[str, str] = {
    "model_HSF.ckpt": "6cbc783f001748fffcda39e5dd10ef0ca67c49a8c71029b7803e098f250e4b6b",
    "model_HSF_0.03.ckpt": "2c8e9a1ffe70af1e68ce1c9147937c83576aca0adb136ac8ad1a66a2c63b9d3a",
    "model_NASF.ckpt": "edd70e533145d1100aa6b0e489a9aa532672f784ad5a746f61a1aff668d06358",
    "model_NASF_0.03.ckpt": "4902ffec76a0cbf966d36a37bb81db8912931331a6bfca83232ea9cbc160cc04",
    "model_NASF_bad.ckpt": "cf341f4b0e715c27f160bcc5d0a171bfd8607b4cc33080fab1511808bdfb617c",
    "model_SWF.ckpt": "a94f12ecd378090f7a54203480fbf0b825c5ee867835cfc6978649bb1773b4fd",
    "model_faultfree_HSF.ckpt": "3720e08e78bf9fecd8a3968ec3733375eeeb04cc6097edc38a46d6751c7297ba",
    "model_faultfree_HSF_0.03.ckpt": "15ca5fdd33d3b43d963693ff40657ade2d8ee4eee404aacf4a11aba3f2fb6e4a",
    "model_faultfree_NASF.ckpt": "76aee7d6e3eebbdb8b0c07ae36b5e1f28b1440b1a016b6ac67a403748e5cd463",
    "model_faultfree_NASF_0.03.ckpt": "76aee7d6e3eebbdb8b0c07ae36b5e1f28b1440b1a016b6ac67a403748e5cd463",
    "model_faultfree_NASF_bad.ckpt": "76aee7d6e3eebbdb8b0c07ae36b5e1f28b1440b1a016b6ac67a403748e5cd463",
    "model_faultfree_SWF.ckpt": "a3668a9d7b5e899e0cdc2431d93b559944264b09ce8c2ee986d7d2512611d951",
    "model_our_mothod_HSF.ckpt": "b44b4eb33d730521a50b8ebebe7723f88fb2181adba10b09a86b4c57976d741b",
    "model_our_mothod_HSF_0.03.ckpt": "6e0c107e37b4adbf5fba1b7ff622c7a9cff30d59c12cb0842590dc4cc83381ca",
    "model_our_mothod_HSF_again.ckpt": "a9aaf274c3181b34b7a9c5d2d4a93d280f83f59ae54649fb0b20d20b8ef374ca",
    "model_our_mothod_NASF.ckpt": "5bbde57cb521bd6af92d4877a4adaadca3f8f4cf05e1550f538cb1e4f9b5aed1",
    "model_our_mothod_NASF_0.03.ckpt": "498ac7afe5b56c1290f59b11f16432b5e43cd1729800f097f3969cc90b460b50",
    "model_our_mothod_NASF_again.ckpt": "9ed0802ccffcf19d46dfbb6b7c8fefa9b82bb0d873bae04d3175ad1bec0c3e34",
    "model_our_mothod_NASF_bad.ckpt": "b5af2aa9d9ef7899daadfedf07489c4be9794105fe4a1e039e16b874815c9cc0",
    "model_our_mothod_NASF_watch.ckpt": "80863a0637abd49aff322d0e1e5da01ec3f4fcd0e02fa300c9e4d6c84a94329d",
    "model_our_mothod_SWF.ckpt": "217b804b69497a1cf18905ea9a10968e8be05ddcddea02e046dce2f31e273314",
}
